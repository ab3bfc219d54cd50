#@set stage=ods
echo "${stage} sh_10_02 ${run_date}"
