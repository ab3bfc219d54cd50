--@set n=3
select ${n} as hql_00_04
