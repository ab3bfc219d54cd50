--@set n=3
select ${n} as hql_04_02
