#@set stage=ods
echo "${stage} sh_01_03 ${run_date}"
