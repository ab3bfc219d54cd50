df = spark.sql("select count(1) from ods.py_06_07")
df.show()
