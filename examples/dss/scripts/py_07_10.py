df = spark.sql("select count(1) from ods.py_07_10")
df.show()
