#@set stage=ods
echo "${stage} sh_01_08 ${run_date}"
