--@set n=3
select ${n} as hql_08_00
