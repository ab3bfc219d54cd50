df = spark.sql("select count(1) from ods.py_10_05")
df.show()
