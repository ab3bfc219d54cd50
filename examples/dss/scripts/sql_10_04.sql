--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_10_04 select * from ods.sql_10_04 where dt='${run_date}'
