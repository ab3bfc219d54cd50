df = spark.sql("select count(1) from ods.py_01_06")
df.show()
