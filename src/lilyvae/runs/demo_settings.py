"""The demo's settings, declared once (no PyTorch needed to read them: the command
line shows them in ``lilyvae demo --help``)."""

DEMO_EPOCHS = 15
#: Seeds per model: enough for a t interval of each model's mean (3 is the least that
#: gives one); they train as one pack per model, at little more than one model's cost.
DEMO_SEEDS = 5
DEMO_TABLE = "synthetic_lily_20cm.csv"
DEMO_HOLDOUT = 0.2
DEMO_SPLIT_SEED = 0
#: Lithologies whose labels the demo's semi-supervised models never see (zero-shot test).
DEMO_ZERO_SHOT = 6
# The demo's subsample sizes are the evaluation's and the figures' own defaults
# (evaluation/config.py, report/figure_options.py): one declaration each.
#: The models whose embeddings the demo's zero-shot property test compares (the recipe
#: with which the semi-supervised model beat the unsupervised one on the real data).
DEMO_PROPERTY_MODELS = ("unsup_hybrid", "semisup_hybrid")
#: The model the demo calibrates and predicts its new core with.
DEMO_NEW_CORE_MODEL = "semisup_hybrid"
RUNS = (
    ("unsupervised", "standard", "unsup_standard"),
    ("unsupervised", "hybrid", "unsup_hybrid"),
    ("semisupervised", "standard", "semisup_standard"),
    ("semisupervised", "hybrid", "semisup_hybrid"),
)
