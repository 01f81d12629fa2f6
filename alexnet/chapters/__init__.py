"""What the chapters use beside the package proper: figures, diagrams, the paper's published numbers, quick/full mode, Colab, torchvision's pretrained weights."""
