"""DIETClassifier and ResponseSelector that load in a fraction of stock Rasa's time.

Stock Rasa 3.6 rebuilds every TensorFlow model at load time by *training it on one example*
(`RasaModel.load` in `rasa/utils/tensorflow/models.py` compiles the model, runs `fit` for one
batch, then overwrites the weights from the checkpoint). Tracing the training graph (forward
pass, loss, gradients, optimizer) dominates the ~27 s a small bot takes to load, and every
server replica pays it.

Here the variables are created by one *eager* prediction instead (no graph tracing), the trained
weights are restored over them, and only then is the prediction graph traced, once. The model
computes exactly what the stock loader's model computes (tests compare both on the same
model), but the training graph and the optimizer state are never built.

Two details make that equivalence hold:

* The first prediction caches the label embeddings (`prepare_for_predict`), and a traced
  `tf.function` would capture them as constants. So the eager build runs with random weights,
  and the cache and the traced function are both discarded after the weights are restored.
* `RandomlyConnectedDense` draws its connectivity mask at build time; the mask is a variable
  in the checkpoint, so restoring it replaces the freshly drawn one.

Saving drops the optimizer state: Adam keeps two slot variables per weight, so the stock
checkpoint is three times the size of the weights (about 200 MB for Hilo's ResponseSelector),
and all of it is unpacked from the model archive at every start. Fine-tuning
(`rasa train --finetune`) keeps the stock load path and starts with a fresh optimizer.
"""

from __future__ import annotations

from typing import Any

import tensorflow as tf
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.nlu.classifiers.diet_classifier import DIET, DIETClassifier
from rasa.nlu.selectors.response_selector import DIET2BOW, DIET2DIET, ResponseSelector
from rasa.utils.tensorflow.model_data import RasaModelData
from rasa.utils.tensorflow.models import RasaModel


class FastLoadMixin:
    """Replaces `RasaModel.save` and `.load` for a RasaModel subclass; put it first in the bases."""

    def save(self, model_file_name: str, overwrite: bool = True) -> None:
        """Writes the weights only: everything the model tracks except its optimizer.

        Keeps the layout `RasaModel.save` produces (the model under the name "model", via
        the model's own `_checkpoint`), which is what `load_weights` matches against.
        """
        children = {
            name: child
            for name, child in self._trackable_children().items()  # type: ignore[attr-defined]
            if name not in ("optimizer", "_checkpoint")
        }
        tf.train.Checkpoint(model=tf.train.Checkpoint(**children)).write(model_file_name)

    @classmethod
    def load(
        cls,
        model_file_name: str,
        model_data_example: RasaModelData,
        predict_data_example: RasaModelData | None = None,
        finetune_mode: bool = False,
        *args: Any,
        **kwargs: Any,
    ) -> RasaModel:
        """Builds the model by an eager prediction, restores weights, traces prediction once."""
        if finetune_mode:
            return super().load(  # type: ignore[misc]
                model_file_name,
                model_data_example,
                predict_data_example,
                finetune_mode,
                *args,
                **kwargs,
            )

        config = kwargs.get("config", {})
        model: RasaModel = cls(*args, **kwargs)
        model.compile(
            optimizer=tf.keras.optimizers.Adam(config.get("learning_rate", 0.001)),
            run_eagerly=config.get("run_eagerly"),
        )
        example = predict_data_example or model_data_example
        run_eagerly = model._run_eagerly
        model._run_eagerly = True
        model.run_inference(example)
        model._run_eagerly = run_eagerly

        # The optimizer's slots are in the checkpoint but not in this model: expected.
        model.load_weights(model_file_name).expect_partial()
        model.prepared_for_prediction = False
        model._tf_predict_step = None
        model.run_inference(example)
        return model


class FastDIET(FastLoadMixin, DIET):
    """DIET (intent and entity model) with the fast loader."""


class FastDIET2BOW(FastLoadMixin, DIET2BOW):
    """ResponseSelector's default model with the fast loader."""


class FastDIET2DIET(FastLoadMixin, DIET2DIET):
    """ResponseSelector's model for `use_text_as_label: true`, with the fast loader."""


@DefaultV1Recipe.register(
    [
        DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
        DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR,
    ],
    is_trainable=True,
)
class FastDIETClassifier(DIETClassifier):
    """`DIETClassifier`, trained identically, loaded without a training step."""

    @staticmethod
    def model_class() -> type[RasaModel]:
        """Returns the model class with the fast loader."""
        return FastDIET


@DefaultV1Recipe.register(
    DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
    is_trainable=True,
)
class FastResponseSelector(ResponseSelector):
    """`ResponseSelector`, trained identically, loaded without a training step."""

    @staticmethod
    def model_class(use_text_as_label: bool) -> type[RasaModel]:
        """Returns the model class with the fast loader."""
        return FastDIET2DIET if use_text_as_label else FastDIET2BOW
