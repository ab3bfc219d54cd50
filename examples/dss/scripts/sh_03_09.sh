#@set stage=ods
echo "${stage} sh_03_09 ${run_date}"
