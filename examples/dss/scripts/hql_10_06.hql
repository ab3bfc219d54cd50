--@set n=3
select ${n} as hql_10_06
