--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_01_05 select * from ods.sql_01_05 where dt='${run_date}'
