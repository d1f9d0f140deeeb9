// placeholder until apps/ has code
