--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_07_09 select * from ods.sql_07_09 where dt='${run_date}'
