--@set n=3
select ${n} as hql_01_07
