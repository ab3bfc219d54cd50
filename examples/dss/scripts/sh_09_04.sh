#@set stage=ods
echo "${stage} sh_09_04 ${run_date}"
