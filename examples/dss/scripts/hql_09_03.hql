--@set n=3
select ${n} as hql_09_03
