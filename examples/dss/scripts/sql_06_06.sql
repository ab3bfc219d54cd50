--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_06_06 select * from ods.sql_06_06 where dt='${run_date}'
