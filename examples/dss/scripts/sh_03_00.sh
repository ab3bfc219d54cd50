#@set stage=ods
echo "${stage} sh_03_00 ${run_date}"
