"""Model backends behind one interface (``backend``): ``hf`` (transformers in-process),
``openai`` (an OpenAI-compatible server), ``predictions`` (files already written); and
``serve``, an OpenAI-compatible server for a transformers model folder."""
