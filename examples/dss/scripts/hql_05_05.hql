--@set n=3
select ${n} as hql_05_05
