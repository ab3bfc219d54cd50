#@set stage=ods
echo "${stage} sh_10_07 ${run_date}"
