#!/usr/bin/env python3
"""Write tune-hosts.csv: a synthetic availability trace of 40 home machines
over 8 days, for the bundled scenario `tune-trace`.

Seeded and deterministic (Python's random.Random(19), Mersenne Twister):
  python3 data/traces/make-tune-hosts.py > data/traces/tune-hosts.csv

Each host h gets its own mean up session U_h ~ uniform(4 h, 24 h) and mean
down session D_h ~ uniform(1 h, 6 h) (heterogeneous machines); it starts up
with probability U_h / (U_h + D_h), then alternates exponential up and down
sessions of those means until 8 days. Times are whole seconds from the run's
start, in the `node,up_at,down_at` CSV form of `[churn] trace`.
"""
import random

HOSTS = 40
END = 8 * 86400
rng = random.Random(19)
print("node,up_at,down_at")
for h in range(HOSTS):
    up_mean = rng.uniform(4 * 3600, 24 * 3600)
    down_mean = rng.uniform(1 * 3600, 6 * 3600)
    t = 0.0
    up = rng.random() < up_mean / (up_mean + down_mean)
    while t < END:
        length = rng.expovariate(1.0 / (up_mean if up else down_mean))
        if up:
            start, end = int(t), min(int(t + length), END)
            if end > start:
                print(f"{h},{start},{end}")
        t += length
        up = not up
