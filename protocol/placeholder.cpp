// placeholder until protocol/ has code
