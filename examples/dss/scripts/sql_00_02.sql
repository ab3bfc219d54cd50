--@set target_db=dw_sales
--conf@set configuration runtime wds.linkis.rm.yarnqueue=dws
insert overwrite table ${target_db}.sql_00_02 select * from ods.sql_00_02 where dt='${run_date}'
