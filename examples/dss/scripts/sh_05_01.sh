#@set stage=ods
echo "${stage} sh_05_01 ${run_date}"
