--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_09_01 select * from ods.sql_09_01 where dt='${run_date}'
