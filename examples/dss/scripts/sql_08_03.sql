--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_08_03 select * from ods.sql_08_03 where dt='${run_date}'
