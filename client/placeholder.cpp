// placeholder until client/ has code
