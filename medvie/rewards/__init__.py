"""Verifiable rewards (GRPO reward functions) and VIE metrics: parse, normalise, flatten, match, TED.

Pure library: no Prefect/DVC; heavy work is deferred so `medvie.rewards.config` stays light.
"""
