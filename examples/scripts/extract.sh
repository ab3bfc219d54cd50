echo "extracting for ${run_date} into ${target_db}"
sleep 0.2
echo "rows=42"
