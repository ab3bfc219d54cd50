--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_05_08 select * from ods.sql_05_08 where dt='${run_date}'
