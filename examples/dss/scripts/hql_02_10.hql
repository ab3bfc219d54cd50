--@set n=3
select ${n} as hql_02_10
