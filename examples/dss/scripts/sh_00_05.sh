#@set stage=ods
echo "${stage} sh_00_05 ${run_date}"
