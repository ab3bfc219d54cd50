import statistics

scores = [3, 5, 8, 13]
print(f"mean score {statistics.mean(scores)} for run ${run_date}")
