df = spark.sql("select count(1) from ods.py_09_02")
df.show()
