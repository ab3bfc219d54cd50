#@set stage=ods
echo "${stage} sh_04_03 ${run_date}"
