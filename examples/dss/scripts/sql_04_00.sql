--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_04_00 select * from ods.sql_04_00 where dt='${run_date}'
