--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_00_07 select * from ods.sql_00_07 where dt='${run_date}'
