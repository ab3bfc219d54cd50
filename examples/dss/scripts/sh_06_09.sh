#@set stage=ods
echo "${stage} sh_06_09 ${run_date}"
