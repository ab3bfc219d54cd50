#@set stage=ods
echo "${stage} sh_07_07 ${run_date}"
