#@set stage=ods
echo "${stage} sh_08_01 ${run_date}"
