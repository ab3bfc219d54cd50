--@set n=3
select ${n} as hql_06_08
