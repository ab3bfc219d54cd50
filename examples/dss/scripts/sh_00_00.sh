#@set stage=ods
echo "${stage} sh_00_00 ${run_date}"
