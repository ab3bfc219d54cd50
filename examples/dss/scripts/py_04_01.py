df = spark.sql("select count(1) from ods.py_04_01")
df.show()
