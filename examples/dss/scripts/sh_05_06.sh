#@set stage=ods
echo "${stage} sh_05_06 ${run_date}"
