#@set stage=ods
echo "${stage} sh_08_10 ${run_date}"
