#@set stage=ods
echo "${stage} sh_02_06 ${run_date}"
