"""The starter taxonomy: topic tags for ML and NLP papers, each with its rules.

Loaded by `python manage.py load_taxonomy` (and so by `make run`); curators then edit the
tags and rules in the admin. A rule is (algorithm, pattern) over title and abstract; in
patterns, "quoted words" are one phrase, and matching ignores case and punctuation unless
marked case-sensitive ("any-cs").
"""

TOPICS = [
    (
        "Large language models",
        "LLMs: training, behaviour and use.",
        [("any", 'LLM LLMs "large language model" "large language models" "foundation models"')],
    ),
    (
        "Retrieval-augmented generation",
        "Grounding generation in retrieved documents.",
        [("any", '"retrieval augmented" "retrieval-enhanced"'), ("any-cs", "RAG")],
    ),
    (
        "Hallucination",
        "Unsupported or made-up model output, and factuality.",
        [("any", "hallucination hallucinations hallucinate factuality")],
    ),
    (
        "Multilingual",
        "Many languages, cross-lingual transfer, low-resource languages.",
        [
            (
                "any",
                'multilingual cross-lingual crosslingual "low-resource languages" '
                '"low resource languages"',
            )
        ],
    ),
    (
        "Machine translation",
        "Translating text between languages.",
        [("any", '"machine translation" "neural machine translation"'), ("any-cs", "NMT")],
    ),
    (
        "Speech",
        "Speech recognition, synthesis and spoken language.",
        [("any", 'speech "spoken language" "text-to-speech"'), ("any-cs", "ASR TTS")],
    ),
    (
        "Code generation",
        "Models that write, complete or repair programs.",
        [
            (
                "any",
                '"code generation" "program synthesis" "code completion" "code LLMs" '
                '"software engineering tasks"',
            )
        ],
    ),
    (
        "Alignment and RLHF",
        "Aligning models with human preferences.",
        [
            (
                "any",
                'RLHF "human feedback" "preference optimization" "reward model" '
                '"reward models" alignment',
            ),
            ("any-cs", "DPO"),
        ],
    ),
    (
        "Evaluation and benchmarks",
        "New benchmarks, evaluation methods and leaderboards.",
        [("any", 'benchmark leaderboard "evaluation framework" "we evaluate"')],
    ),
    (
        "Efficient training and inference",
        "Quantization, pruning, distillation, fast decoding.",
        [
            (
                "any",
                'quantization pruning distillation "speculative decoding" "KV cache" '
                '"parameter-efficient" LoRA "efficient inference"',
            )
        ],
    ),
    (
        "Agents",
        "Models that plan, use tools and act.",
        [("any", 'agent agents agentic "tool use" "tool learning" "multi-agent"')],
    ),
    (
        "Multimodal",
        "Vision-language and other multimodal models.",
        [
            (
                "any",
                'multimodal "vision-language" "vision language" "image-text" VLM VLMs MLLM MLLMs',
            )
        ],
    ),
    (
        "Medical",
        "Clinical, biomedical and health applications.",
        [("any", "medical clinical biomedical healthcare radiology patients")],
    ),
    (
        "Reasoning",
        "Multi-step, mathematical and logical reasoning.",
        [("any", 'reasoning "chain-of-thought" "chain of thought" "mathematical problems"')],
    ),
    (
        "Question answering",
        "Answering questions from text or knowledge.",
        [("any", '"question answering" "open-domain QA"')],
    ),
    (
        "Summarization",
        "Condensing documents into summaries.",
        [("any", "summarization summarisation summarize")],
    ),
    (
        "Dialogue",
        "Conversational systems and chatbots.",
        [("any", "dialogue dialog conversational chatbot chatbots")],
    ),
    (
        "Instruction tuning",
        "Fine-tuning models to follow instructions.",
        [
            (
                "any",
                '"instruction tuning" "instruction-tuned" "instruction following" '
                '"supervised fine-tuning"',
            )
        ],
    ),
    (
        "Knowledge graphs",
        "Structured knowledge and its use with language models.",
        [("any", '"knowledge graph" "knowledge graphs" "knowledge base"')],
    ),
    (
        "Safety and jailbreaks",
        "Harmful output, jailbreaks and red teaming.",
        [("any", 'jailbreak jailbreaks jailbreaking "red teaming" "red-teaming" harmful')],
    ),
    (
        "Bias and fairness",
        "Social bias, stereotypes and fairness.",
        [("any", 'fairness stereotypes debiasing "social bias" "gender bias"')],
    ),
    (
        "Long context",
        "Long inputs and context windows.",
        [("any", '"long context" "long-context" "context window" "long documents"')],
    ),
    (
        "Pretraining and scaling",
        "Pretraining data, objectives and scaling laws.",
        [("any", 'pretraining pre-training "scaling law" "scaling laws"')],
    ),
    (
        "Mixture of experts",
        "Sparse mixture-of-experts architectures.",
        [("any", '"mixture of experts" "mixture-of-experts"'), ("any-cs", "MoE")],
    ),
    (
        "Embeddings",
        "Text embeddings and representation learning.",
        [("any", 'embedding embeddings "sentence representations" "representation learning"')],
    ),
    (
        "Information extraction",
        "Entities, relations and events from text.",
        [
            (
                "any",
                '"named entity" "relation extraction" "information extraction" '
                '"entity linking" "event extraction"',
            ),
            ("any-cs", "NER"),
        ],
    ),
    (
        "Sentiment and emotion",
        "Opinions, sentiment and emotion in text.",
        [("any", "sentiment emotion emotions")],
    ),
    (
        "Interpretability",
        "Understanding what models learn and how they decide.",
        [("any", 'interpretability interpretable explainability probing "mechanistic"')],
    ),
    (
        "Tokenization",
        "Tokenizers, subwords and vocabularies.",
        [("any", "tokenization tokenizer tokenizers subword")],
    ),
    (
        "Datasets",
        "New corpora, data collection and synthetic data.",
        [("any", '"new dataset" "we release" "synthetic data" "data curation" corpus')],
    ),
]
