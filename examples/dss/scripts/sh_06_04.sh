#@set stage=ods
echo "${stage} sh_06_04 ${run_date}"
