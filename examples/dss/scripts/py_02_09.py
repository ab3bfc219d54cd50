df = spark.sql("select count(1) from ods.py_02_09")
df.show()
