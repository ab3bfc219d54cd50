--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_03_02 select * from ods.sql_03_02 where dt='${run_date}'
